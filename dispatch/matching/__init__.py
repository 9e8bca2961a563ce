"""Who should take a job: the hard rules, the cost, ranking, a technician's day as a route, the
fleet's days in memory, assignment, overrides, offered slots.
"""
