"""Write a stand-in ID photo (3.5 x 4.5 aspect, 350 x 450 pixels) for the demo: python make-photo.py OUT."""

import sys

from PIL import Image, ImageDraw

image = Image.new("RGB", (350, 450), "white")
draw = ImageDraw.Draw(image)
draw.ellipse((105, 80, 245, 250), fill=(224, 190, 160))  # a face on a plain background
draw.rectangle((70, 260, 280, 450), fill=(40, 50, 90))
image.save(sys.argv[1], format="JPEG", quality=90)
