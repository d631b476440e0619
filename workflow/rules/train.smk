rule train:
    input:
        unpack(get_training_arrays),
    output:
        model="results/runs/{run}/model.keras",
        history="results/runs/{run}/history.csv",
        run_info="results/runs/{run}/run.json",
    params:
        run=get_training_params,
        checkpoint_dir="results/runs/{run}/checkpoint",
    threads: get_train_resource("threads")
    resources:
        gpu=get_train_resource("gpu"),
        runtime=get_train_resource("runtime"),
        mem_mb=get_train_resource("mem_mb"),
    log:
        "logs/train/{run}.log",
    benchmark:
        "benchmarks/train/{run}.tsv"
    script:
        "../scripts/train.py"


rule predict:
    input:
        unpack(get_eval_arrays),
    output:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
    params:
        evaluation=get_evaluation_setting("targets", "sensitive_attributes"),
    log:
        "logs/predict/{run}/{eval_set}.log",
    script:
        "../scripts/predict.py"
