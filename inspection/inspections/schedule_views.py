"""Scheduling pages: calendar, new inspection or round, invitations, due list. (Scheduling issue.)"""
