"""A job from its record to its end: the lifecycle, the one writer of status, owner and plan,
releasing it to the technician's phone, records and their SQL, idempotent requests.
"""
