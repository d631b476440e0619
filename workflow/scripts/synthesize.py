from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.data.synthetic import generate_synthetic_dataset

settings = snakemake.params.synthetic
labels = snakemake.params.labels
table = generate_synthetic_dataset(
    Path(snakemake.output.labels).parent,
    n_images=settings["n_images"],
    image_size=settings["image_size"],
    seed=settings["seed"],
    signal=settings["signal"],
    groups=settings["groups"],
    gender_classes=labels["gender"],
    age_classes=labels["age"],
    jpeg_quality=settings["jpeg_quality"],
)
print(f"wrote {len(table)} images to {snakemake.output.images}")
