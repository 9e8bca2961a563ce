"""`truckroll import`: an installed base from CSV files."""
