package org.diffrep.study;

import org.diffrep.extract.GridMeanReduction;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.InputMode;
import org.diffrep.noise.SigmaGrid;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.ProbeResult;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's real-data part: a UNet shipped in the jar ({@code builtin:unet-mnist}) swept over a sigma grid on
 * {@code builtin:mnist}, clean input conditioned on sigma (the research's protocol): features of a few taps at each
 * level, a linear probe per tap and level on the store's split, the soft-voting ensemble around the best level, the
 * raw-pixel baseline on the same split and the CSNR of each tap, with 95% intervals. Writes the feature store,
 * {@code mnist.json} and {@code mnist.png/.svg}.
 */
public final class MnistDemo {

    /**
     * What the part runs.
     *
     * @param model  model file or {@code builtin:NAME}
     * @param data   data spec
     * @param limit  digits taken from the data (in its order, both splits)
     * @param layers taps probed
     * @param sigmas the sigma grid
     * @param l2     the linear probe's L2 penalty (NaN: the validation search of {@link LogisticProbe})
     * @param store  the feature store's directory name inside the output directory
     * @param pool   how every tap's maps become rows: {@code mean} (channel means) or a grid {@code mean:GHxGW}
     */
    public record Settings(String model, String data, int limit, List<String> layers, SigmaGrid sigmas, double l2,
                           String store, String pool) {
        public Settings {
            if (limit < 20) {
                throw InvalidInputException.field("limit", "must be >= 20 digits, got " + limit);
            }
            layers = List.copyOf(layers);
            boolean grid;
            try {
                grid = pool != null && GridMeanReduction.parse(pool) != null;
            } catch (IllegalArgumentException e) {
                grid = false;
            }
            if (!grid && !"mean".equals(pool)) {
                throw InvalidInputException.field("pool", "expected mean or mean:GHxGW, got " + pool);
            }
        }

        /**
         * The demo: 600 digits (about 480 train / 120 test by the data's own split, so the test digits are unseen by the
         * UNet too), tap {@code dec.0} pooled on a 2x2 grid (the best tap and pooling of the 5,000-digit sweep in
         * docs/ANALYSIS.md), the default grid (16 levels up to 80), a fixed probe penalty instead of a search per level:
         * 9,600 forwards to dec.0 and 16 probe fits, sized for the demo's two-minute budget on 2 cores.
         */
        public static Settings demo() {
            return new Settings("builtin:unet-mnist", "builtin:mnist", 600, List.of("dec.0"), SigmaGrid.defaults(),
                    1e-3, "mnist-features", "mean:2x2");
        }

        /** A few-second version for tests and smoke checks: 300 digits, tap mid, 4 levels. */
        public static Settings quick() {
            return new Settings("builtin:unet-mnist", "builtin:mnist", 300, List.of("mid"),
                    SigmaGrid.parse("0.01,0.3,3,40"), 1e-3, "mnist-features-quick", "mean");
        }
    }

    /** The best single probe over taps and levels. */
    public record Best(String layer, double sigma, int sigmaIndex, boolean inside, double accuracy, double[] interval,
                       double ensembleAccuracy, double[] ensembleInterval) {
    }

    /**
     * What the part measured: the probe study, the best tap and level (inside the grid or at its edge), the raw-pixel
     * baseline's accuracy and interval (NaN when it could not be fitted), and the seconds taken.
     */
    public record Result(Settings settings, ProbeStudy.Report report, Best best, double pixelAccuracy,
                         double[] pixelInterval, double seconds) {
    }

    private MnistDemo() {
    }

    /** Runs the part into {@code out} (the store under {@link Settings#store}, mnist.json, mnist.png/.svg). */
    public static Result run(Settings s, Path out, PrintStream log) {
        long start = System.nanoTime();
        Path storeDir = out.resolve(s.store());
        // resume: a demo run again over the same settings reuses its complete store
        new Extractor(ExtractConfig.builder().model(Path.of(s.model())).data(s.data()).limit(s.limit())
                .layers(s.layers()).sigmas(s.sigmas()).input(InputMode.CLEAN).out(storeDir).resume(true)
                .reduce(s.pool().equals("mean") ? Map.of()
                        : s.layers().stream().collect(Collectors.toMap(l -> l, l -> s.pool(), (a, b) -> a, LinkedHashMap::new)))
                .build())
                .log(log).run();
        FeatureStore store = FeatureStore.open(storeDir);
        ProbeStudy.Settings ps = ProbeStudy.Settings.builder()
                .logistic(LogisticProbe.Settings.builder().l2(s.l2()).build()).build();
        ProbeStudy.Report report = ProbeStudy.run(store, s.layers(), ps, log);
        Best best = best(report);
        double pixel = Double.NaN;
        double[] pixelCi = {Double.NaN, Double.NaN};
        if (report.pixelBaseline() != null && report.pixelBaseline().result() != null) {
            ProbeResult px = report.pixelBaseline().result();
            pixel = px.accuracy();
            pixelCi = px.accuracyInterval95();
        }
        Result r = new Result(s, report, best, pixel, pixelCi, (System.nanoTime() - start) / 1e9);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("settings", s);
        json.put("best", best);
        json.put("pixelAccuracy", pixel);
        json.put("pixelInterval", pixelCi);
        json.put("seconds", r.seconds());
        json.put("report", report);
        ProbeStudyReport.write(out, "mnist.json", "mnist", json,
                List.of(new ProbeStudyReport.Titled(s.model() + " on " + s.data() + ", clean input", report)));
        return r;
    }

    /** The tap and level with the highest single-probe accuracy (the first tap on ties). */
    static Best best(ProbeStudy.Report report) {
        ProbeStudy.Curve bestCurve = null;
        for (ProbeStudy.Curve c : report.curves()) {
            if (c.labelNoise() == 0 && (bestCurve == null || c.ensemble().bestAccuracy() > bestCurve.ensemble().bestAccuracy())) {
                bestCurve = c;
            }
        }
        if (bestCurve == null) {
            throw new IllegalStateException("the study has no curve without label noise");
        }
        ProbeStudy.Ensemble e = bestCurve.ensemble();
        int i = e.bestSigmaIndex();
        int n = bestCurve.points().size();
        return new Best(bestCurve.layer(), e.bestSigma(), i, i > 0 && i < n - 1, e.bestAccuracy(),
                bestCurve.points().get(i).result().accuracyInterval95(), e.result().accuracy(),
                e.result().accuracyInterval95());
    }

    /** The lines the demo prints under the table. */
    public static List<String> summary(Result r, Path out) {
        List<String> lines = new ArrayList<>();
        Best b = r.best();
        lines.add(String.format(Locale.ROOT, "best tap %s at sigma %.3g (level %d of %d, %s): accuracy %.4f [%.3f, %.3f]",
                b.layer(), b.sigma(), b.sigmaIndex() + 1, r.settings().sigmas().size(),
                b.inside() ? "inside the grid" : "at the edge of the grid", b.accuracy(), b.interval()[0], b.interval()[1]));
        lines.add(String.format(Locale.ROOT, "ensemble of the best sigma +/- %d: %.4f [%.3f, %.3f]",
                r.report().ensembleWidth(), b.ensembleAccuracy(), b.ensembleInterval()[0], b.ensembleInterval()[1]));
        if (Double.isNaN(r.pixelAccuracy())) {
            lines.add("raw pixels: no baseline");
        } else {
            lines.add(String.format(Locale.ROOT, "raw pixels, same probe and split: %.4f [%.3f, %.3f]; best tap %s by %+.1f points",
                    r.pixelAccuracy(), r.pixelInterval()[0], r.pixelInterval()[1],
                    b.accuracy() > r.pixelAccuracy() ? "above" : "not above", 100 * (b.accuracy() - r.pixelAccuracy())));
        }
        lines.add(String.format(Locale.ROOT, "real-data part %.1f s; files: %s/{mnist.json, mnist.png, mnist.svg, %s/}",
                r.seconds(), out.toAbsolutePath().normalize(), r.settings().store()));
        return lines;
    }
}
