"""Venues (serveringsställen), their serving permits, responsible servers and risk class."""
