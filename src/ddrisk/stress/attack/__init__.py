"""Adaptive attacks on a stack of safety layers: do attacks found against one layer pass the others?"""
