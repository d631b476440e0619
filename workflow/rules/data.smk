# Data acquisition runs on the login node (compute nodes often have no internet).
localrules:
    synthesize,


rule synthesize:
    wildcard_constraints:
        dataset=names_pattern(datasets_with_layout("synthetic")),
    output:
        labels="resources/{dataset}/labels.csv",
        images=directory("resources/{dataset}/images"),
    params:
        synthetic=get_dataset_setting("synthetic"),
        labels=get_dataset_setting("labels"),
    log:
        "logs/synthesize/{dataset}.log",
    script:
        "../scripts/synthesize.py"


rule manifest:
    input:
        unpack(get_dataset_source),
    output:
        manifest="results/data/{dataset}/manifest.csv",
        rejects="results/data/{dataset}/rejects.csv",
    params:
        layout=get_dataset_setting("layout"),
        labels=get_dataset_setting("labels"),
        split=get_dataset_setting("split"),
        max_reject_fraction=get_dataset_setting("max_reject_fraction"),
    log:
        "logs/manifest/{dataset}.log",
    script:
        "../scripts/manifest.py"


rule preprocess:
    input:
        manifest="results/data/{dataset}/manifest.csv",
        images="resources/{dataset}/images",
    output:
        expand(
            "results/data/{{dataset}}/{{size}}-{{color}}/{split}.{extension}",
            split=["train", "val", "test"],
            extension=["npy", "csv"],
        ),
    log:
        "logs/preprocess/{dataset}/{size}-{color}.log",
    benchmark:
        "benchmarks/preprocess/{dataset}/{size}-{color}.tsv"
    script:
        "../scripts/preprocess.py"

