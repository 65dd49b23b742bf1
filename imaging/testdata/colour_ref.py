"""LittleCMS (through Pillow's ImageCms) as the colour-management reference
for imaging's colour tests.

  colour_ref.py ref IN OUT.png [PROFILE]   IN converted to sRGB (perceptual),
                                           with its embedded profile or PROFILE
  colour_ref.py cmyk IN.png OUT.jpg [PROFILE]
                                           IN as a CMYK JPEG (Pillow's naive
                                           conversion), PROFILE embedded
  colour_ref.py cmyktiff IN.png OUT.tif [PROFILE]
                                           the same as an LZW CMYK TIFF
"""
import io
import sys

from PIL import Image, ImageCms


def main(mode, src, dst, profile=None):
    im = Image.open(src)
    if mode in ("cmyk", "cmyktiff"):
        extra = {"icc_profile": open(profile, "rb").read()} if profile else {}
        if mode == "cmyk":
            extra["quality"] = 95
        else:
            extra["compression"] = "tiff_lzw"
        im.convert("CMYK").save(dst, **extra)
        return
    data = open(profile, "rb").read() if profile else im.info["icc_profile"]
    src_profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    out = ImageCms.profileToProfile(im, src_profile, ImageCms.createProfile("sRGB"),
                                    renderingIntent=0, outputMode="RGB")
    out.save(dst)


if __name__ == "__main__":
    main(*sys.argv[1:])
