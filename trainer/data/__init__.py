"""Datasets: LandCover.ai download and official tiling, synthetic look-alike data, tf.data input.

Nothing is imported here, so `python -m trainer --help` stays instant: import the modules
(`tiles`, `landcoverai`, `synth`, `pipeline`) where they are needed.
"""
