"""Where everyone is and when they arrive: positions, ETAs, risks and shift reports, the board,
live events, the customer's link and view.
"""
