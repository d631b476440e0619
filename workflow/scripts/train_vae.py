from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import numpy as np

from faceaudit.training.vae_run import train_vae_run

train_vae_run(
    snakemake.params.run,
    train_images=np.load(snakemake.input.train_images, mmap_mode="r"),
    val_images=np.load(snakemake.input.val_images, mmap_mode="r"),
    out=dict(snakemake.output.items()),
    threads=snakemake.threads,
    checkpoint_dir=snakemake.params.checkpoint_dir,
)
