"""Business calendars, SLA policies and clocks, the SLA timer, requests to management, KPIs."""
