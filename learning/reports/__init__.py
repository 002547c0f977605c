"""Reports: dashboards, completion matrix, charts, exports, portfolios; reads every domain."""
