"""The DeepLabv3+ networks, built from standard Keras 3 layers: the trainer trains them, and the
reference's published checkpoint is converted into one (`core/reference.py`).

Nothing is imported here, so importing `networks.config` does not load Keras: import `deeplab`
(`build_model`), `xception` or `blocks` where a network is built.
"""
