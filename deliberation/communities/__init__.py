"""Communities, estates, buildings, the residents' roll, residencies and role grants."""
