package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Json;
import org.diffrep.ops.Tensors;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * What the most used latents of an SAE respond to: one pass encodes every row of the store; for
 * each latent it counts activations and keeps the rows with the largest activations. For the
 * {@code latents} most frequently active latents it writes a montage PNG of the top images (read
 * from the dataset by each row's dataset index), and {@code latents.json} and {@code index.html}
 * with the activation frequency and the class distribution of the top images.
 */
public final class LatentInspector {

    /** One top-activating row of a latent. */
    public record TopRow(long row, long datasetIndex, int label, float activation) {
    }

    /** A latent's summary: frequency over all rows, top rows, class counts among them, montage file. */
    public record Latent(int latent, double frequency, List<TopRow> top, Map<String, Integer> classCounts, String montage) {
    }

    private LatentInspector() {
    }

    /** Inspects and writes into {@code out}; returns the latents in order of frequency. */
    public static List<Latent> inspect(TopKSae sae, SaeFeatures in, Dataset data, int latents, int top, Path out,
                                       PrintStream log) throws IOException {
        if (latents < 1) {
            throw InvalidInputException.field("latents", "must be >= 1, got " + latents);
        }
        if (top < 1) {
            throw InvalidInputException.field("top", "must be >= 1, got " + top);
        }
        long[] datasetIndex = in.datasetIndices();
        for (long d : datasetIndex) {
            if (d < 0 || d >= data.size()) {
                throw InvalidInputException.field("data", data.source() + " has " + data.size()
                        + " samples but the feature store refers to sample " + d + "; give the data the store was made from");
            }
        }
        int l = sae.latents();
        long[] fired = new long[l];
        List<PriorityQueue<TopRow>> best = new ArrayList<>(l);
        for (int j = 0; j < l; j++) {
            best.add(new PriorityQueue<>(Comparator.comparingDouble(TopRow::activation)));
        }
        long[] ids = in.allIds();
        long[] labels = in.store().labels();
        int batch = 512;
        try (InferenceMode mode = new InferenceMode()) {
            for (int s = 0; s < ids.length; s += batch) {
                try (PointerScope scope = new PointerScope()) {
                    int n = Math.min(batch, ids.length - s);
                    TopKSae.Codes c = sae.encode(RowBatches.rows(in.features(), ids, s, n));
                    SaeEncoder.requireFinite(c, sae.source(), in, s, n, null);
                    float[] values = Tensors.toFloats(c.values());
                    long[] idx = Tensors.toLongs(c.indices());
                    int k = (int) c.values().size(1);
                    for (int r = 0; r < n; r++) {
                        long row = s + r;
                        for (int q = 0; q < k; q++) {
                            float v = values[r * k + q];
                            if (v == 0f) {
                                continue;
                            }
                            int j = (int) idx[r * k + q];
                            fired[j]++;
                            PriorityQueue<TopRow> pq = best.get(j);
                            if (pq.size() < top || v > pq.peek().activation()) {
                                pq.add(new TopRow(row, datasetIndex[(int) row], (int) labels[(int) row], v));
                                if (pq.size() > top) {
                                    pq.poll();
                                }
                            }
                        }
                    }
                }
            }
        }
        Integer[] order = new Integer[l];
        for (int j = 0; j < l; j++) {
            order[j] = j;
        }
        java.util.Arrays.sort(order, (a, b) -> fired[b] != fired[a] ? Long.compare(fired[b], fired[a]) : Integer.compare(a, b));
        Files.createDirectories(out);
        List<Latent> result = new ArrayList<>();
        for (int i = 0; i < Math.min(latents, l) && fired[order[i]] > 0; i++) {
            int j = order[i];
            List<TopRow> rows = new ArrayList<>(best.get(j));
            rows.sort(Comparator.comparingDouble(TopRow::activation).reversed());
            Map<String, Integer> classes = new LinkedHashMap<>();
            List<String> names = data.classNames();
            for (TopRow r : rows) {
                String name = r.label() >= 0 && r.label() < names.size() ? names.get(r.label()) : Integer.toString(r.label());
                classes.merge(name, 1, Integer::sum);
            }
            String png = String.format("latent_%05d.png", j);
            writeMontage(data, rows, out.resolve(png));
            result.add(new Latent(j, (double) fired[j] / ids.length, rows, classes, png));
        }
        Json.write(out.resolve("latents.json"), result);
        AtomicFiles.writeString(out.resolve("index.html"), html(sae, in, result));
        if (log != null) {
            log.printf("sae inspect: %d latents, top %d images each -> %s%n", result.size(), top, out.resolve("index.html"));
        }
        return result;
    }

    /** One top-activating image of a token latent: its maximum over positions and its activation map [H*W]. */
    public record TopImage(long row, long datasetIndex, int label, float activation, float[] map) {
    }

    /** A token latent's summary: share of images where it fires somewhere, top images with maps, class counts. */
    public record TokenLatent(int latent, double frequency, double tokenFrequency, List<TopImage> top,
                              Map<String, Integer> classCounts, String montage) {
    }

    /** How the shown latents are chosen: the most frequently active, or those whose top images share a class most. */
    public enum Order { FREQUENCY, PURITY }

    /**
     * Token latents: one pass encodes every token of every image; per latent it counts the images (and tokens) where
     * it fires and keeps the images with the largest activation anywhere on their map, with the map. For the
     * {@code latents} chosen latents (by {@code order}; purity ranks latents with a full set of top images by the
     * share of their most common class, then by frequency) it writes a montage of the top images with the
     * activation map as a heat map over each (bilinear from H x W to the image, scaled by the latent's largest
     * activation), {@code latents.json} and {@code index.html}.
     */
    public static List<TokenLatent> inspectTokens(TopKSae sae, TokenImages in, Dataset data, int latents, int top,
                                                  Order order, Path out, PrintStream log) throws IOException {
        if (latents < 1) {
            throw InvalidInputException.field("latents", "must be >= 1, got " + latents);
        }
        if (top < 1) {
            throw InvalidInputException.field("top", "must be >= 1, got " + top);
        }
        for (long d : in.datasetIndices()) {
            if (d < 0 || d >= data.size()) {
                throw InvalidInputException.field("data", data.source() + " has " + data.size()
                        + " samples but the features refer to sample " + d + "; give the data they were made from");
            }
        }
        TokenRows rows = in.rows();
        int l = sae.latents(), hw = rows.positions();
        long[] firedImages = new long[l], firedTokens = new long[l];
        List<PriorityQueue<TopImage>> best = new ArrayList<>(l);
        for (int j = 0; j < l; j++) {
            best.add(new PriorityQueue<>(Comparator.comparingDouble(TopImage::activation)));
        }
        float[] imageMax = new float[l];
        int[] touched = new int[l];
        try (InferenceMode mode = new InferenceMode()) {
            rows.scanImages(Math.max(1, 512 / hw), (first, tokens) -> {
                int b = (int) tokens.size(0);
                TopKSae.Codes c = sae.encode(tokens.reshape(-1, rows.width()));
                SaeEncoder.requireFinite(c, sae.source(), rows.source(), (long) first * hw, b * hw, null);
                float[] values = Tensors.toFloats(c.values());
                long[] idx = Tensors.toLongs(c.indices());
                int k = (int) c.values().size(1);
                for (int i = 0; i < b; i++) {
                    int nt = 0;
                    int base = i * hw * k;
                    for (int q = 0; q < hw * k; q++) {
                        float v = values[base + q];
                        if (v == 0f) {
                            continue;
                        }
                        int j = (int) idx[base + q];
                        firedTokens[j]++;
                        if (imageMax[j] == 0f) {
                            touched[nt++] = j;
                        }
                        imageMax[j] = Math.max(imageMax[j], v);
                    }
                    int row = first + i;
                    for (int t = 0; t < nt; t++) {
                        int j = touched[t];
                        float v = imageMax[j];
                        imageMax[j] = 0f;
                        firedImages[j]++;
                        PriorityQueue<TopImage> pq = best.get(j);
                        if (pq.size() < top || v > pq.peek().activation()) {
                            float[] map = new float[hw];
                            for (int q = 0; q < hw * k; q++) {
                                if (idx[base + q] == j) {
                                    map[q / k] = values[base + q];
                                }
                            }
                            pq.add(new TopImage(row, in.datasetIndices()[row], (int) in.labels()[row], v, map));
                            if (pq.size() > top) {
                                pq.poll();
                            }
                        }
                    }
                }
            });
        }
        long images = in.labels().length;
        List<String> names = data.classNames();
        Map<Integer, Map<String, Integer>> classes = new java.util.HashMap<>();
        double[] purity = new double[l];
        for (int j = 0; j < l; j++) {
            Map<String, Integer> cc = new LinkedHashMap<>();
            for (TopImage r : best.get(j)) {
                String name = r.label() >= 0 && r.label() < names.size() ? names.get(r.label()) : Integer.toString(r.label());
                cc.merge(name, 1, Integer::sum);
            }
            classes.put(j, cc);
            int most = cc.values().stream().mapToInt(Integer::intValue).max().orElse(0);
            purity[j] = best.get(j).size() < top ? -1 : (double) most / top;
        }
        Integer[] rank = new Integer[l];
        for (int j = 0; j < l; j++) {
            rank[j] = j;
        }
        Comparator<Integer> byFreq = (a, b) -> Long.compare(firedImages[b], firedImages[a]);
        Comparator<Integer> cmp = order == Order.PURITY
                ? Comparator.<Integer>comparingDouble(j -> -purity[j]).thenComparing(byFreq) : byFreq;
        java.util.Arrays.sort(rank, cmp.thenComparing(Comparator.naturalOrder()));
        Files.createDirectories(out);
        int[] shape = rows.mapShape();
        List<TokenLatent> result = new ArrayList<>();
        for (int i = 0; i < Math.min(latents, l) && firedImages[rank[i]] > 0; i++) {
            int j = rank[i];
            List<TopImage> tops = new ArrayList<>(best.get(j));
            tops.sort(Comparator.comparingDouble(TopImage::activation).reversed());
            String png = String.format("latent_%05d.png", j);
            writeHeatMontage(data, tops, shape[1], shape[2], out.resolve(png));
            result.add(new TokenLatent(j, (double) firedImages[j] / images, (double) firedTokens[j] / (images * hw), tops,
                    classes.get(j), png));
        }
        Json.write(out.resolve("latents.json"), result);
        AtomicFiles.writeString(out.resolve("index.html"), tokenHtml(sae, in, result, order));
        if (log != null) {
            log.printf("sae inspect: %d token latents, top %d images each with activation maps -> %s%n", result.size(), top,
                    out.resolve("index.html"));
        }
        return result;
    }

    /**
     * A grid of the top images, each in grey with the latent's activation map over it as a heat map (black-red-yellow,
     * opacity rising with the activation), the map scaled by the largest activation among them and bilinearly
     * upsampled from mh x mw to the image.
     */
    static void writeHeatMontage(Dataset data, List<TopImage> rows, int mh, int mw, Path file) throws IOException {
        long[] idx = rows.stream().mapToLong(TopImage::datasetIndex).toArray();
        int[] shape = data.imageShape();
        int c = shape[0], h = shape[1], w = shape[2];
        int zoom = Math.max(1, 84 / Math.max(h, w));
        int cols = (int) Math.ceil(Math.sqrt(rows.size())), gridRows = (rows.size() + cols - 1) / cols, gap = 2;
        BufferedImage img = new BufferedImage(cols * (zoom * w + gap) + gap, gridRows * (zoom * h + gap) + gap,
                BufferedImage.TYPE_INT_RGB);
        float[] pix;
        try (PointerScope scope = new PointerScope()) {
            pix = Tensors.toFloats(data.batch(idx).images());
        }
        float scale = 0;
        for (TopImage r : rows) {
            scale = Math.max(scale, r.activation());
        }
        int per = c * h * w;
        for (int n = 0; n < rows.size(); n++) {
            float[] map = rows.get(n).map();
            int x0 = gap + (n % cols) * (zoom * w + gap), y0 = gap + (n / cols) * (zoom * h + gap);
            for (int y = 0; y < zoom * h; y++) {
                for (int x = 0; x < zoom * w; x++) {
                    int py = y / zoom, px = x / zoom;
                    float grey = 0;
                    for (int ch = 0; ch < c; ch++) {
                        grey += pix[n * per + ch * h * w + py * w + px];
                    }
                    // the digit dimmed so that the yellow end of the heat map stands out on its strokes
                    grey = 0.6f * Math.max(0f, Math.min(1f, (grey / c + 1f) / 2f));
                    float v = scale > 0 ? Math.max(0f, Math.min(1f, bilinear(map, mh, mw,
                            (y + 0.5f) / (zoom * h) * mh - 0.5f, (x + 0.5f) / (zoom * w) * mw - 0.5f) / scale)) : 0f;
                    float a = 0.75f * v;
                    float r = (1 - a) * grey + a * Math.min(1f, 3 * v);
                    float g = (1 - a) * grey + a * Math.max(0f, Math.min(1f, 3 * v - 1));
                    float bl = (1 - a) * grey + a * Math.max(0f, Math.min(1f, 3 * v - 2));
                    int argb = (Math.round(255 * r) << 16) | (Math.round(255 * g) << 8) | Math.round(255 * bl);
                    img.setRGB(x0 + x, y0 + y, argb);
                }
            }
        }
        AtomicFiles.write(file, o -> {
            if (!ImageIO.write(img, "png", o)) {
                throw new IOException("no PNG writer");
            }
        });
    }

    /** The map [mh*mw] at fractional position (y, x) in map cells, clamped at the border. */
    static float bilinear(float[] map, int mh, int mw, float y, float x) {
        y = Math.max(0, Math.min(mh - 1, y));
        x = Math.max(0, Math.min(mw - 1, x));
        int y0 = (int) Math.floor(y), x0 = (int) Math.floor(x);
        int y1 = Math.min(mh - 1, y0 + 1), x1 = Math.min(mw - 1, x0 + 1);
        float fy = y - y0, fx = x - x0;
        float top = map[y0 * mw + x0] * (1 - fx) + map[y0 * mw + x1] * fx;
        float bottom = map[y1 * mw + x0] * (1 - fx) + map[y1 * mw + x1] * fx;
        return top * (1 - fy) + bottom * fy;
    }

    private static String tokenHtml(TopKSae sae, TokenImages in, List<TokenLatent> latents, Order order) {
        int[] s = in.rows().mapShape();
        StringBuilder b = new StringBuilder();
        b.append("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>SAE token latents</title>\n<style>")
                .append("body{font-family:sans-serif;margin:1em}.grid{display:flex;flex-wrap:wrap;gap:12px}")
                .append(".card{border:1px solid #ccc;padding:6px;width:260px}.card img{width:100%;image-rendering:pixelated}")
                .append(".bar{background:#4a7;height:8px;display:inline-block}td{font-size:12px;padding:0 4px}")
                .append("</style></head><body>\n");
        b.append("<h1>SAE token latents</h1>\n<p>").append(escape(in.rows().source())).append(", layer ")
                .append(escape(in.layer())).append(", sigma ").append(in.sigma()).append(": tokens of ").append(s[0])
                .append(" channels at ").append(s[1]).append("x").append(s[2]).append(" positions; ").append(sae.latents())
                .append(" latents, k = ").append(sae.config().k()).append(". The ").append(latents.size()).append(" ")
                .append(order == Order.PURITY ? "latents whose top images share a class most" : "most frequently active latents")
                .append(", each with its top-activating images (largest activation anywhere on the map first) and the ")
                .append("activation map over each image as a heat map (black-red-yellow, scaled by the latent's largest ")
                .append("activation).</p>\n<div class=\"grid\">\n");
        for (TokenLatent l : latents) {
            int n = l.top().size();
            b.append("<div class=\"card\"><b>latent ").append(l.latent()).append("</b> &middot; fires on ")
                    .append(String.format("%.2f%%", 100 * l.frequency())).append(" of images, ")
                    .append(String.format("%.2f%%", 100 * l.tokenFrequency())).append(" of tokens<br>")
                    .append("<img src=\"").append(l.montage()).append("\" alt=\"latent ").append(l.latent()).append("\">")
                    .append("<table>");
            classRows(b, l.classCounts(), n);
            b.append("</table></div>\n");
        }
        b.append("</div></body></html>\n");
        return b.toString();
    }

    /** A square-ish grid of the images, each scaled up to about 84 pixels, [-1, 1] mapped to [0, 255]. */
    static void writeMontage(Dataset data, List<TopRow> rows, Path file) throws IOException {
        long[] idx = rows.stream().mapToLong(TopRow::datasetIndex).toArray();
        int[] shape = data.imageShape();
        int c = shape[0], h = shape[1], w = shape[2];
        int zoom = Math.max(1, 84 / Math.max(h, w));
        int cols = (int) Math.ceil(Math.sqrt(rows.size())), gridRows = (rows.size() + cols - 1) / cols, gap = 2;
        BufferedImage img = new BufferedImage(cols * (zoom * w + gap) + gap, gridRows * (zoom * h + gap) + gap,
                BufferedImage.TYPE_INT_RGB);
        float[] pix;
        try (PointerScope scope = new PointerScope()) {
            pix = Tensors.toFloats(data.batch(idx).images());
        }
        int per = c * h * w;
        for (int n = 0; n < rows.size(); n++) {
            int x0 = gap + (n % cols) * (zoom * w + gap), y0 = gap + (n / cols) * (zoom * h + gap);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int[] rgb = new int[3];
                    for (int ch = 0; ch < 3; ch++) {
                        float v = pix[n * per + Math.min(ch, c - 1) * h * w + y * w + x];
                        rgb[ch] = Math.max(0, Math.min(255, Math.round((v + 1f) * 127.5f)));
                    }
                    int argb = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
                    for (int dy = 0; dy < zoom; dy++) {
                        for (int dx = 0; dx < zoom; dx++) {
                            img.setRGB(x0 + x * zoom + dx, y0 + y * zoom + dy, argb);
                        }
                    }
                }
            }
        }
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer");
            }
        });
    }

    private static String html(TopKSae sae, SaeFeatures in, List<Latent> latents) {
        StringBuilder b = new StringBuilder();
        b.append("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>SAE latents</title>\n<style>")
                .append("body{font-family:sans-serif;margin:1em}.grid{display:flex;flex-wrap:wrap;gap:12px}")
                .append(".card{border:1px solid #ccc;padding:6px;width:260px}.card img{width:100%;image-rendering:pixelated}")
                .append(".bar{background:#4a7;height:8px;display:inline-block}td{font-size:12px;padding:0 4px}")
                .append("</style></head><body>\n");
        b.append("<h1>SAE latents</h1>\n<p>").append(escape(in.store().dir().toString())).append(", layer ")
                .append(escape(in.layer())).append(", sigma ").append(in.sigma()).append("; ").append(sae.latents())
                .append(" latents, k = ").append(sae.config().k()).append(". The ").append(latents.size())
                .append(" most frequently active latents, each with its top-activating images (largest first).</p>\n");
        b.append("<div class=\"grid\">\n");
        for (Latent l : latents) {
            int n = l.top().size();
            b.append("<div class=\"card\"><b>latent ").append(l.latent()).append("</b> &middot; active on ")
                    .append(String.format("%.2f%%", 100 * l.frequency())).append(" of rows<br>")
                    .append("<img src=\"").append(l.montage()).append("\" alt=\"latent ").append(l.latent()).append("\">")
                    .append("<table>");
            classRows(b, l.classCounts(), n);
            b.append("</table></div>\n");
        }
        b.append("</div></body></html>\n");
        return b.toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** A card's class table: one row per class of the top images, most frequent first, with a bar. */
    private static void classRows(StringBuilder b, Map<String, Integer> counts, int n) {
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> b.append("<tr><td>").append(escape(e.getKey())).append("</td><td>").append(e.getValue())
                        .append("/").append(n).append("</td><td><span class=\"bar\" style=\"width:")
                        .append(120 * e.getValue() / n).append("px\"></span></td></tr>"));
    }
}
