"""A technician's working day: the day as the app shows it, the work on each job (status, parts,
notes, offline reports), running late and calling in sick.
"""
