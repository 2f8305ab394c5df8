"""Inspections (tillsynsbesök): scheduling, rounds, invitations, the protocol, observations, signing."""
