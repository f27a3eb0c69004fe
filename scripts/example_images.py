"""The real images of examples/data/real: the first three bundled test images of two rare
classes of the embedded model (crates/nao-burn/assets/test-images, Fashion-MNIST's test set),
cut from their strips as 28x28 PNGs.

    python3 scripts/example_images.py   # needs Pillow
"""
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
for cls in ["bag", "ankle-boot"]:
    strip = Image.open(ROOT / "crates/nao-burn/assets/test-images" / f"{cls}.png")
    out = ROOT / "examples/data/real" / cls
    out.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        strip.crop((28 * i, 0, 28 * (i + 1), 28)).save(out / f"{i:02}.png", optimize=True)
