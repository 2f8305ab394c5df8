"""Reports: the public half-year account, yearly statistics, the manager dashboard, exports."""
