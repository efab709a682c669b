package org.diffrep.bench;

import org.diffrep.bench.KernelBenchmark.Case;
import org.diffrep.bench.KernelBenchmark.Kind;
import org.diffrep.bench.KernelBenchmark.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * {@code bench jmh} ({@code tools/bench-kernels --jmh}): the kernel cases of {@link KernelBenchmark}
 * timed by JMH ({@link KernelJmh}: forked JVM, warm-up and measurement iterations, average time per
 * call), then the same ratio table computed from JMH's scores.
 */
@Command(name = "jmh", mixinStandardHelpOptions = true, versionProvider = Bench.Version.class,
        description = {"The kernel cases of 'kernels' timed by JMH (benchmarks in KernelJmh: xxxOurs against "
                + "xxxLibtorch), then the same table: average ms per call, ratio = LibTorch / ours.",
                "For every JMH option, run JMH's own runner on the same classpath: "
                        + "java -cp ... org.openjdk.jmh.Main KernelJmh -h"})
public final class JmhBenchmark implements Callable<Integer> {

    @Mixin
    BenchOptions common;

    @Parameters(paramLabel = "PATTERN", arity = "0..*",
            description = "Only the benchmarks whose method name matches one of these regular expressions "
                    + "(noise, pool, topk, poolTopk; both sides of a case share the prefix). Default: all.")
    List<String> patterns = new ArrayList<>();

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256",
            description = "Rows of every tensor, the leading dimension of the sizes (default: ${DEFAULT-VALUE}).")
    long batch;

    @Option(names = "--forks", paramLabel = "F", defaultValue = "1",
            description = "JVM forks per benchmark; 0 runs in this JVM (default: ${DEFAULT-VALUE}).")
    int forks;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "3",
            description = "Warm-up iterations (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--iterations", paramLabel = "I", defaultValue = "5",
            description = "Measurement iterations (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--time", paramLabel = "T", defaultValue = "1s",
            description = "Length of each iteration, JMH's notation: 1s, 200ms (default: ${DEFAULT-VALUE}).")
    String time;

    @Option(names = "--jmh-result", paramLabel = "FILE",
            description = "Also write JMH's own result file (JMH's JSON format) to FILE.")
    Path jmhResult;

    @Option(names = "--verbosity", paramLabel = "V", defaultValue = "NORMAL",
            description = "JMH's output: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    VerboseMode verbosity;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || forks < 0 || warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("need --batch >= 1, --forks >= 0, --warmup >= 0 and --iterations >= 1");
        }
        if (common.threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0, got " + common.threads);
        }
        TimeValue iterationTime = TimeValue.fromString(time);
        String prefix = Pattern.quote(KernelJmh.class.getName()) + "\\.";
        ChainedOptionsBuilder opt = new OptionsBuilder()
                .forks(forks)
                .warmupIterations(warmup).warmupTime(iterationTime)
                .measurementIterations(iterations).measurementTime(iterationTime)
                .jvmArgsAppend("-D" + KernelJmh.THREADS_PROPERTY + "=" + common.threads)
                .verbosity(verbosity);
        if (patterns.isEmpty()) {
            opt.include(prefix);
        }
        for (String p : patterns) {
            opt.include(prefix + "(?:" + p + ")");
        }
        // the cases of the table at --batch rows, one JMH parameter per kind of input
        Map<Kind, List<String>> params = new LinkedHashMap<>();
        for (Case c : KernelBenchmark.cases(batch)) {
            if (paramName(c.kind()) == null) {
                continue;
            }
            params.computeIfAbsent(c.kind(), k -> new ArrayList<>()).add(c.param());
        }
        params.forEach((kind, values) -> opt.param(paramName(kind), values.toArray(String[]::new)));
        if (jmhResult != null) {
            opt.resultFormat(ResultFormatType.JSON).result(jmhResult.toString());
        }
        // this JVM's threads too (a fork sets its own from the property)
        System.setProperty(KernelJmh.THREADS_PROPERTY, Integer.toString(common.threads));
        Collection<RunResult> runs = new Runner(opt.build()).run();

        List<Result> results = ratios(runs, KernelBenchmark.cases(batch));
        System.out.printf("JMH: %d fork(s), %d x %s warm-up, %d x %s measured, average time per call, threads %s%n",
                forks, warmup, time, iterations, time, common.threads == 0 ? "all cores" : common.threads);
        KernelBenchmark.printTable(results);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("timer", "jmh");
        doc.put("threads", common.threads);
        doc.put("forks", forks);
        doc.put("warmup_iterations", warmup);
        doc.put("iterations", iterations);
        doc.put("iteration_time", time);
        doc.put("results", results);
        common.writeJson(doc);
        return 0;
    }

    /** The JMH parameter that holds the cases of one kind of input (null: the kind has no JMH benchmark). */
    static String paramName(Kind kind) {
        return switch (kind) {
            case NOISE -> "noiseShape";
            case NOISE_FRESH -> null;
            case POOL -> "poolShape";
            case TOPK -> "topkCase";
            case POOL_TOPK -> "poolTopkCase";
        };
    }

    /** Pairs xxxOurs with xxxLibtorch of the same case, in the order of {@code cases}. */
    static List<Result> ratios(Collection<RunResult> runs, List<Case> cases) {
        Map<String, Double> ours = new HashMap<>();
        Map<String, Double> lib = new HashMap<>();
        for (RunResult r : runs) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            double ms = r.getPrimaryResult().getScore();
            for (Kind kind : Kind.values()) {
                String value = paramName(kind) == null ? null : r.getParams().getParam(paramName(kind));
                if (value != null) {
                    String key = kind + " " + value;
                    if (method.endsWith("Ours")) {
                        ours.put(key, ms);
                    } else if (method.endsWith("Libtorch")) {
                        lib.put(key, ms);
                    }
                }
            }
        }
        List<Result> out = new ArrayList<>();
        for (Case c : cases) {
            String key = c.kind() + " " + c.param();
            if (ours.containsKey(key) && lib.containsKey(key)) {
                double o = ours.get(key), l = lib.get(key);
                out.add(new Result(c.label(), c.size(), o, l, l / o));
            }
        }
        return out;
    }
}
