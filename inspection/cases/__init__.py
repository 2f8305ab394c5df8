"""Follow-up cases (tillsynsärenden): proposal, kommunicering, reply, decision, appeal."""
