"""Constants shared by the library, the command lines and the editor (one definition each).

Torch-free and dependency-free, so every tier (the GUI through tcp_editor.services) can import it.
"""

# Photo files the loaders, folder scans and file dialogs accept (lower case, with the dot).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp")

# Refuse to decode images with more pixels than this (decompression bombs); callers may pass their own.
DEFAULT_MAX_PIXELS = 100_000_000

# Colour smoothing of the full-resolution reconstruction (`tcp_core.editing.fullres`), in network
# pixels: the box-filter radius of the local colour transform. 0 follows the network's local colours
# most closely; MAX_SMOOTHING keeps the most of the photo's own texture.
DEFAULT_SMOOTHING = 6
MAX_SMOOTHING = 32

# How an export turns a region edit's colours at the region's border into the network's global swap's
# inside the region (`tcp_core.editing.export_config.ExportConfig.interior`):
# "guided" a ramp that follows the photo (narrow along its edges, wide across smooth skies), "fixed" a
# ramp over 1-4 network pixels, "off" the region edit (paper Eq. 5-6) alone.
INTERIOR_MODES = ("guided", "fixed", "off")
DEFAULT_INTERIOR_MODE = "guided"  # since session 29 (docs/training/s33/)
# What fills a region's inside under that ramp (`ExportConfig.interior_fill`): "swap" the network's global swap of
# the primed photo, "primed" the primed photo itself (the classical colour transfer, no network inside; the
# network's region edit still makes the border). Blind on the tuning artist pairs "primed" at priming 1.0 beat the
# default 34-14 (docs/training/s44/); opt-in until it is judged held out and with strengths past 1.
INTERIOR_FILLS = ("swap", "primed")
DEFAULT_INTERIOR_FILL = "swap"
# Where an export's feather fades each region's edit out (`ExportConfig.edge`): "across" straddles the mask's
# edge (a photo-guided fade from inside to just outside the mask: no seam where the brush stopped on a smooth sky),
# "inside" fades out within the mask (no pixel outside the mask changes, but the fade shows as a band along it).
# "across" is the editor's default since session 33: blind on held-out pairs it beat "inside" 25-5 (docs/training/s37/).
FEATHER_EDGES = ("across", "inside")
DEFAULT_FEATHER_EDGE = "across"
# The strength slider and --strength: 1 is the reference's own style code; above it the code is
# extrapolated past the reference (more of its look than the network gives at 1; docs/training/s35/).
MAX_STRENGTH = 1.5
# Colour priming of the network's input (`tcp_core.colour.priming`, `apply --pre-transfer`): how far each region's
# inside is moved towards the reference's colours by a classical colour transfer before the network edits it (0..1).
# 0.5 since session 31: blind on the held-out pairs it beat the network alone (docs/training/s36/); 0.75 since session
# 33 (with priming row by row, its spread cap and the photo-guided feather): blind it beat 0.5 51-32 on the held-out
# pairs (20-9 and 20-11 on whole-region masks, 11-12 on clustered ones) and 32-15 on the tuning pairs
# (docs/training/s38/).
DEFAULT_PRE_TRANSFER = 0.75
# The cap on colour priming's spread ratio (reference / region, per Lab channel; `apply --priming-cap`): a region much
# flatter than the reference (a grey sky, a near-grey detail) is stretched at most this much, not into blotches and
# grain. 2 since session 32: blind on the tuning pairs it beat no cap (docs/training/s37/).
DEFAULT_PRIMING_CAP = 2.0
# How colour priming matches the reference's colours (`tcp_core.colour.priming.prime_region(profile=...)`, `apply
# --priming-profile`): "rows" one Lab mean per row of the region, following the reference's rows at the same height (a
# sunset gradient stays a gradient), "global" one mean for the whole region. "rows" since session 33: blind it beat
# "global" 32-16 on the tuning pairs and 42-33 on the held-out ones (docs/training/s38/).
PRIMING_PROFILES = ("rows", "global")
DEFAULT_PRIMING_PROFILE = "rows"
# What colour priming's spread ratio stretches (`prime_region(spread=...)`, `apply --priming-spread`): "all" of the
# region's variation about its mean (or row means), or only its "detail", finer than SPREAD_DETAIL_REF_PX pixels of a
# 128 px image, with the coarser variation (a smooth sky's slow left-to-right shading) never stretched: stretched, a
# dusk sky's gentle shading became a dark blotch under a storm reference (docs/training/s38/, s39/). "detail" since
# session 34: blind it beat "all" 7-3 on the tuning pairs and 15-9 on the held-out ones (10-4 on whole-region masks,
# both judges naming the dusk blotch it removes; 5-5 on clustered ones), most pairs ties.
PRIMING_SPREADS = ("all", "detail")
DEFAULT_PRIMING_SPREAD = "detail"
SPREAD_DETAIL_REF_PX = 8.0
# Clipped highlights in colour priming (`prime_region(highlights=...)`, `apply --priming-highlights`): Reinhard's
# transfer moves each pixel's colour difference from its region's mean (or row mean) into the reference's colours;
# a clipped pixel (every channel near 255: the sun's disk, a glint) has lost its colour, so a white sun in an orange
# sky reads as "bluer than its row" and was painted strongly blue under a grey storm reference (docs/training/s40/).
# "neutral": a clipped pixel's chroma difference counts as none, so it takes the reference's colour at its row and
# keeps its brightness; an overcast sky's white patch (no difference to begin with) is primed as before.
# "plain": Reinhard's transfer of every pixel alike.
PRIMING_HIGHLIGHTS = ("neutral", "plain")
DEFAULT_PRIMING_HIGHLIGHTS = "neutral"
# What of the reference colour priming reads for a region without a style mask (`apply --priming-part`): "place" the
# reference's rows at the region's own place in its photo, "match" the part of the reference that looks like the region
# (`TCPModel.match_style_part`), "auto" matches only smooth regions. "place" (docs/training/s39/).
PRIMING_PARTS = ("place", "match", "auto")
# What colour priming does with the pixels of a region that are not its material (`prime_region(objects=...)`, `apply
# --priming-objects`): a rock or a path in a meadow, boats on a beach, a post in the grass. "prime" moves them with the
# region, as Reinhard's transfer does (their difference from the region's mean carried into the reference's colours:
# a grey rock in green grass turned cyan under an autumn reference, docs/training/s44/ section 4); "keep" leaves them as
# they are and reads the region's colour moments without them (`priming.object_weight`). The export keeps objects only
# in textured regions: in a smooth one (a sky, fog) the odd pixels are clouds and the sun, which belong to it.
# "prime" (docs/training/s45/): blind with the primed inside at priming 1.0, "keep" lost 5-13 on the tuning artist
# pairs: a cloudy sky counts as textured, and its sunlit clouds kept their orange under a blue-sky reference; it won
# only where it kept a sea's glints.
PRIMING_OBJECTS = ("prime", "keep")
DEFAULT_PRIMING_OBJECTS = "prime"
OBJECT_SCALE_REF_PX = 12.0  # the region's local material colour: a Gaussian of this sigma (pixels of a 128 px image)
OBJECT_SPREAD_FLOOR = (6.0, 4.0, 4.0)  # least robust spread (Lab L, a, b) a pixel's difference is measured in
OBJECT_DISTANCE = (2.5, 4.0)  # normalised distance from which a pixel starts to count as an object, and fully does
HIGHLIGHT_CLIP = (235.0, 250.0)  # smallest channel (0-255) where a pixel starts to count as clipped; fully clipped
# The cap on how much the export's local colour transform (`tcp_core.editing.fullres`) amplifies the photo's own detail,
# per output channel (the norm of each row of A; `apply --detail-gain`, 0 = no cap): local means still follow the
# network exactly (b is refitted), but a smooth sky's sensor noise and JPEG blocks are not stretched into grain when
# the network turns a blue sky peach (docs/training/s39/). Only where the photo is smooth (`fullres.photo_flatness`):
# a cap everywhere lost 2-8 on the tuning pairs (textured regions lost their contrast); the cap on smooth parts won
# 2-0 there and 8-5 on the held-out pairs (4-0 on clustered masks, 4-5 on whole-region ones), every win a smoother,
# less grainy sky named by both judges. None: no cap.
DEFAULT_DETAIL_GAIN: float | None = 1.25
