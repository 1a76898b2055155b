"""Pieces of `python -m trainer fit`: resumable run state, its callbacks, devices and precision.

Import-light on purpose: TensorFlow and Keras are imported inside the functions that need them.
"""
