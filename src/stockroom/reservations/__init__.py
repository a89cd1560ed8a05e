"""Reservations: units of stock promised to an order until sold, released or expired."""
