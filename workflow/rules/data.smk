def datasets_with_layout(layout):
    return [name for name, dataset in config["datasets"].items() if dataset["layout"] == layout]


def get_dataset_setting(key):
    def setting(wildcards):
        return config["datasets"][wildcards.dataset][key]

    return setting


def datasets_with_download():
    return [name for name, dataset in config["datasets"].items() if dataset["download"]]


def dataset_root(name):
    """The folder that a dataset's manifest paths are relative to."""
    if config["datasets"][name]["layout"] == "synthetic":
        return f"resources/{name}"
    return f"resources/{name}/data"


def get_dataset_root(wildcards):
    return dataset_root(wildcards.dataset)


def get_dataset_source(wildcards):
    """The files a dataset's adapter reads (for `synthetic`: what the generator wrote; else the downloaded data)."""
    if config["datasets"][wildcards.dataset]["layout"] == "synthetic":
        return {
            "labels": f"resources/{wildcards.dataset}/labels.csv",
            "images": f"resources/{wildcards.dataset}/images",
        }
    return {"data": dataset_root(wildcards.dataset)}


def get_layout_settings(wildcards):
    """The dataset's settings for its layout's adapter (none for `synthetic`, whose settings drive the generator)."""
    dataset = config["datasets"][wildcards.dataset]
    return {} if dataset["layout"] == "synthetic" else dataset[dataset["layout"]]


def preprocessed_outputs(folder):
    """The preprocess rule's files: {split}_images (.npy) and {split}_rows (.csv) for every split."""
    return {
        f"{split}_{kind}": f"{folder}/{split}.{extension}"
        for split in labels.SPLITS
        for kind, extension in (("images", "npy"), ("rows", "csv"))
    }


# The audit reads arrays that training needs anyway: the smallest size any run reads the dataset at (gray before
# rgb), so it never decodes the images again; the hash and statistics work at any size of 8 px or more.
def get_audit_arrays(wildcards):
    sizes = [
        (int(run["image_size"]), run["color"] == "rgb", run["color"])
        for run in ALL_RUNS.values()
        for eval_set in ["train", *run.get("eval_sets", [])]
        if labels.eval_set_source(run["dataset"], eval_set)[0] == wildcards.dataset
    ]
    size, _, color = min(sizes, default=(32, False, "gray"))
    return {
        key: pattern.format(dataset=wildcards.dataset, size=size, color=color)
        for key, pattern in rules.preprocess.output.items()
    }


# Data acquisition runs on the login node (compute nodes often have no internet).
localrules:
    synthesize,
    download,


rule synthesize:
    output:
        labels="resources/{dataset}/labels.csv",
        images=directory("resources/{dataset}/images"),
    log:
        "logs/synthesize/{dataset}.log",
    wildcard_constraints:
        dataset=names_pattern(datasets_with_layout("synthetic")),
    params:
        synthetic=get_dataset_setting("synthetic"),
        labels=get_dataset_setting("labels"),
    script:
        "../scripts/synthesize.py"


rule download:
    output:
        data=directory("resources/{dataset}/data"),
    log:
        "logs/download/{dataset}.log",
    wildcard_constraints:
        dataset=names_pattern(datasets_with_download()),
    params:
        files=get_dataset_setting("download"),
        downloads="resources/{dataset}/downloads",
        checksums_lock=config["checksums_lock"],
        archive_limits=config["archive_limits"],
    script:
        "../scripts/download.py"


rule manifest:
    input:
        unpack(get_dataset_source),
    output:
        manifest=dataset_pattern("manifest"),
        rejects=dataset_pattern("rejects"),
        repairs=dataset_pattern("repairs"),
    log:
        "logs/manifest/{dataset}.log",
    threads: config["data_threads"]
    params:
        root=get_dataset_root,
        layout=get_dataset_setting("layout"),
        layout_settings=get_layout_settings,
        labels=get_dataset_setting("labels"),
        split=get_dataset_setting("split"),
        max_reject_fraction=get_dataset_setting("max_reject_fraction"),
        sample_fraction=get_dataset_setting("sample_fraction"),
        sample_size=get_dataset_setting("sample_size"),
        keep_classes=get_dataset_setting("keep_classes"),
    script:
        "../scripts/manifest.py"


rule preprocess:
    input:
        unpack(get_dataset_source),
        manifest=rules.manifest.output.manifest,
    output:
        **preprocessed_outputs("results/data/{dataset}/{size}-{color}"),
    log:
        "logs/preprocess/{dataset}/{size}-{color}.log",
    benchmark:
        "benchmarks/preprocess/{dataset}/{size}-{color}.tsv"
    threads: config["data_threads"]
    params:
        root=get_dataset_root,
    script:
        "../scripts/preprocess.py"


rule sample_grid:
    input:
        unpack(get_dataset_source),
        manifest=rules.manifest.output.manifest,
    output:
        grid=dataset_pattern("samples"),
    log:
        "logs/sample_grid/{dataset}.log",
    params:
        root=get_dataset_root,
        labels=get_dataset_setting("labels"),
    script:
        "../scripts/sample_grid.py"


rule data_audit:
    input:
        unpack(get_audit_arrays),
    output:
        audit=dataset_pattern("data_audit"),
    log:
        "logs/data_audit/{dataset}.log",
    benchmark:
        "benchmarks/data_audit/{dataset}.tsv"
    params:
        labels=get_dataset_setting("labels"),
        sensitive_attributes=get_dataset_setting("sensitive_attributes"),
        settings=get_dataset_setting("data_audit"),
    script:
        "../scripts/data_audit.py"
