"""Work orders (工单): stations, tickets, forwarding, call-backs. Never imports hotline or ivr."""
