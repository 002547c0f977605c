"""Running cohorts: create, staff, enrol and move; deadlines and what counts as done."""
