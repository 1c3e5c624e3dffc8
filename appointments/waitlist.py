"""Waitlist: placeholder replaced below."""
