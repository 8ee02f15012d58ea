"""Services: the only code that writes rows, and turns rows into plain data and back.

Views and commands parse their input, call one of these small functions, and render what
comes back. Every function here that changes data leaves committing to its caller, so a
command or request is one transaction: all of it, or nothing.
"""
