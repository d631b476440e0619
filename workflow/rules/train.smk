def get_training_arrays(wildcards):
    files = preprocessed_files(get_run(wildcards))
    return {key: files[key] for key in ("train_images", "train_rows", "val_images", "val_rows")}


def get_training_params(wildcards):
    return without_job_settings(get_run(wildcards))


rule train:
    input:
        unpack(get_training_arrays),
    output:
        model=run_pattern("model"),
        history=run_pattern("history"),
        run_info=run_pattern("run_info"),
        curves=run_pattern("curves"),
    log:
        "logs/train/{run}.log",
    benchmark:
        "benchmarks/train/{run}.tsv"
    wildcard_constraints:
        run=run_names("trained"),
    threads: get_train_resource("threads")
    resources:
        gpu=get_train_resource("gpu"),
        runtime=get_train_resource("runtime"),
        mem_mb=get_train_resource("mem_mb"),
    params:
        run=get_training_params,
        checkpoint_dir="results/runs/{run}/checkpoint",
    script:
        "../scripts/train.py"
