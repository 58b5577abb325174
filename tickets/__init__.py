"""Departments, queues, agents, tickets, conversation, routing, handoffs, outages, appointments."""
