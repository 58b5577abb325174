"""Customers, contracts, invoices, orders, connections, phone password and caller verification."""
