# Data acquisition runs on the login node (compute nodes often have no internet).
localrules:
    synthesize,
    download,


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


rule download:
    wildcard_constraints:
        dataset=names_pattern(datasets_with_download()),
    output:
        data=directory("resources/{dataset}/data"),
    params:
        files=get_dataset_setting("download"),
        downloads="resources/{dataset}/downloads",
        checksums_lock=config["checksums_lock"],
    log:
        "logs/download/{dataset}.log",
    script:
        "../scripts/download.py"


rule manifest:
    input:
        unpack(get_dataset_source),
    output:
        manifest="results/data/{dataset}/manifest.csv",
        rejects="results/data/{dataset}/rejects.csv",
        repairs="results/data/{dataset}/repairs.csv",
    params:
        root=get_dataset_root,
        layout=get_dataset_setting("layout"),
        layout_settings=get_layout_settings,
        labels=get_dataset_setting("labels"),
        split=get_dataset_setting("split"),
        max_reject_fraction=get_dataset_setting("max_reject_fraction"),
        sample_fraction=get_dataset_setting("sample_fraction"),
        sample_size=get_dataset_setting("sample_size"),
    threads: config["data_threads"]
    log:
        "logs/manifest/{dataset}.log",
    script:
        "../scripts/manifest.py"


rule preprocess:
    input:
        unpack(get_dataset_source),
        manifest="results/data/{dataset}/manifest.csv",
    output:
        expand(
            "results/data/{{dataset}}/{{size}}-{{color}}/{split}.{extension}",
            split=["train", "val", "test"],
            extension=["npy", "csv"],
        ),
    params:
        root=get_dataset_root,
    threads: config["data_threads"]
    log:
        "logs/preprocess/{dataset}/{size}-{color}.log",
    benchmark:
        "benchmarks/preprocess/{dataset}/{size}-{color}.tsv"
    script:
        "../scripts/preprocess.py"



rule sample_grid:
    input:
        unpack(get_dataset_source),
        manifest="results/data/{dataset}/manifest.csv",
    output:
        grid="results/data/{dataset}/samples.png",
    params:
        root=get_dataset_root,
        labels=get_dataset_setting("labels"),
    log:
        "logs/sample_grid/{dataset}.log",
    script:
        "../scripts/sample_grid.py"
