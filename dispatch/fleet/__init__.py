"""The technicians and what they bring: territories, technicians, shifts, vans and depots,
customers' preferences.
"""
