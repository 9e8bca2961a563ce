"""How long a drive takes: the travel sources (straight line, road router), what is learned from
trips, geocoding and calibration.
"""
