"""The day optimizer: the problem, the solver, the plan's check, plan runs and applying them."""
