"""Reports' pages: dashboard, staff learner pages, matrix, charts, portfolio."""
