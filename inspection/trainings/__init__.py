"""Training sessions (Ansvarsfull alkoholservering, Krogar mot knark, ...) and överserveringstest."""
