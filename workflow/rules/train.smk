rule train:
    input:
        unpack(get_training_arrays),
    output:
        model="results/runs/{run}/model.keras",
        history="results/runs/{run}/history.csv",
        run_info="results/runs/{run}/run.json",
    log:
        "logs/train/{run}.log",
    benchmark:
        "benchmarks/train/{run}.tsv"
    wildcard_constraints:
        run=TRAINED_NAME,
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
