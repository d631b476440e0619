# The sine-wave comparison of sequence models (an MLP, an LSTM, a GRU): one small job, no face data.


rule sine_comparison:
    output:
        plot=sequence_path("plot"),
        scores=sequence_path("scores"),
    log:
        "logs/sine_comparison/sine_comparison.log",
    benchmark:
        "benchmarks/sine_comparison/sine_comparison.tsv"
    params:
        settings=config["sequence_comparison"],
    script:
        "../scripts/sine_comparison.py"
