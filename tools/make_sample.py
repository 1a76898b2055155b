"""`make sample`: the bundled sample orthophoto, a synthetic scene the default model never saw.

    python tools/make_sample.py [--out resources/sample/sample_orthophoto.tif] [--seed 2034]

Synthetic, so it ships without licence strings attached; its seed differs from every seed of
`make default-model`, so the demo shows the model on unseen ground.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from landcover_qgis_plugin.core.geotiff import write_geotiff  # noqa: E402
from trainer.data.synth import generate_scene  # noqa: E402

# A spot near Ostrołęka, Poland, in EPSG:2180 (PUWG 1992) metres.
ORIGIN = (640_000.0, 560_000.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "sample" / "sample_orthophoto.tif")
    parser.add_argument("--seed", type=int, default=2034)
    parser.add_argument("--size", type=int, default=1600, help="side in pixels (default 1600: 400 m at 25 cm/px)")
    parser.add_argument("--resolution", type=float, default=0.25, help="metres per pixel (default 0.25)")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    rgb, _ = generate_scene(args.size, args.size, args.resolution, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_geotiff(args.out, rgb, origin=ORIGIN, resolution_m=args.resolution, overwrite=args.overwrite)
    print(f"Wrote {args.out}: {args.size}x{args.size} px at {args.resolution} m/px, seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
