# Generative models: a VAE per `model: vae` experiment, trained on its dataset's images.
from faceaudit.study.result_files import VAE_FILES, vae_pattern


def get_vae_run(wildcards):
    return study_name(VAE_RUNS, wildcards.vae_run, "VAE run")


def get_vae_training_params(wildcards):
    return without_job_settings(get_vae_run(wildcards))


def get_vae_arrays(wildcards):
    files = preprocessed_files(get_vae_run(wildcards))
    return {key: files[key] for key in ("train_images", "val_images")}


from faceaudit.study.result_files import VAE_FILES, vae_pattern


rule train_vae:
    input:
        unpack(get_vae_arrays),
    output:
        **{name: vae_pattern(name) for name in VAE_FILES},
    log:
        "logs/train_vae/{vae_run}.log",
    benchmark:
        "benchmarks/train_vae/{vae_run}.tsv"
    threads: get_train_resource("threads", get_vae_run)
    resources:
        gpu=get_train_resource("gpu", get_vae_run),
        runtime=get_train_resource("runtime", get_vae_run),
        mem_mb=get_train_resource("mem_mb", get_vae_run),
    params:
        run=get_vae_training_params,
        checkpoint_dir="results/vae/{vae_run}/checkpoint",
    script:
        "../scripts/train_vae.py"
