package org.diffrep.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.GenericDictIterator;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Json;
import org.diffrep.ops.Tensors;

/**
 * A TorchScript denoiser following the contract of DESIGN.md: {@code forward(x, sigma) -> Dict[str, Tensor]}
 * with key {@code denoised} and one key per tap, in the EDM convention. The archive's extra file
 * {@code diffrep.json} (written by tools/export_torchscript.py) gives {@code input_shape} and
 * {@code taps} in forward order. TorchScript runs the whole graph, so there is no early stop: taps
 * that are not wanted are dropped.
 */
public final class TorchScriptDenoiser implements Denoiser {

    private final Path file;
    private final JitModule module;
    private final long[] inputShape;
    private final List<String> taps;
    private volatile boolean checked;
    private static final String DENOISED = "denoised";

    public TorchScriptDenoiser(Path file) {
        this.file = file;
        JsonNode meta = readMeta(file);
        inputShape = inputShape(file, meta.get("input_shape"));
        taps = taps(file, meta.get("taps"));
        try {
            module = torch.load(file.toString());
        } catch (RuntimeException e) {
            throw new InvalidInputException(file + ": not a loadable TorchScript archive: " + firstLine(e.getMessage()), e);
        }
        module.eval();
        requireFiniteWeights();
    }

    private static long[] inputShape(Path file, JsonNode shape) {
        String where = file + ": extra/diffrep.json field 'input_shape'";
        if (shape == null || !shape.isArray() || shape.isEmpty() || shape.size() > 8) {
            throw new InvalidInputException(where + " must be an array of 1 to 8 sizes, found " + shape);
        }
        long[] out = new long[shape.size()];
        double n = 1;
        for (int i = 0; i < out.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 1) {
                throw new InvalidInputException(where + " must hold integers in [1, " + Integer.MAX_VALUE + "], found "
                        + shape);
            }
            out[i] = d.asInt();
            n *= out[i];
        }
        if (n > Integer.MAX_VALUE) {
            throw new InvalidInputException(where + " " + shape + " has " + (long) n + " values per sample, more than "
                    + Integer.MAX_VALUE);
        }
        return out;
    }

    private static List<String> taps(Path file, JsonNode tapList) {
        String where = file + ": extra/diffrep.json field 'taps'";
        if (tapList == null || !tapList.isArray()) {
            throw new InvalidInputException(where + " must be an array of tap names, found " + tapList);
        }
        List<String> t = new ArrayList<>();
        for (JsonNode n : tapList) {
            if (!n.isTextual() || n.asText().isEmpty() || n.asText().equals(DENOISED) || t.contains(n.asText())) {
                throw new InvalidInputException(where + " must hold distinct non-empty names other than '" + DENOISED
                        + "', found " + tapList);
            }
            t.add(n.asText());
        }
        return List.copyOf(t);
    }

    /** Refuses parameters or buffers with NaN or infinite values, naming the first. */
    private void requireFiniteWeights() {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        named_parameter_list params = module.named_parameters(true);
        for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it.increment()) {
            weights.put(it.access().name().getString(), it.access().value());
        }
        named_buffer_list buffers = module.named_buffers(true);
        for (named_buffer_iterator it = buffers.begin(); it.notEquals(buffers.end()); it.increment()) {
            weights.put(it.access().name().getString(), it.access().value());
        }
        Finite.requireTensors(file.toString(), weights, "");
    }

    @Override
    public String source() {
        return file.toString();
    }

    @Override
    public List<String> taps() {
        return taps;
    }

    @Override
    public void to(Device device) {
        module.to(device, false);
    }

    @Override
    public long[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public Output forward(Tensor x, Tensor sigma, Set<String> wanted, boolean wantDenoised) {
        Denoiser.deepestTap(taps, wanted);
        long[] xs = Tensors.shape(x);
        if (xs.length != inputShape.length + 1 || !Arrays.equals(Arrays.copyOfRange(xs, 1, xs.length), inputShape)) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(xs) + " does not match [N, "
                    + Arrays.toString(inputShape).substring(1) + " of " + file);
        }
        if (sigma.dim() != 1 || sigma.size(0) != xs[0]) {
            throw new IllegalArgumentException("sigma must have shape [" + xs[0] + "], got "
                    + Arrays.toString(Tensors.shape(sigma)));
        }
        IValue result;
        try {
            result = module.forward(new IValueVector(new IValue(x), new IValue(sigma)));
        } catch (RuntimeException e) {
            if (checked) {
                throw e;
            }
            throw new InvalidInputException(file + ": forward(x, sigma) failed on the first batch (x "
                    + Arrays.toString(xs) + ", sigma [" + xs[0] + "]); the contract is forward(x, sigma) -> "
                    + "Dict[str, Tensor]: " + firstLine(e.getMessage()), e);
        }
        Map<String, Tensor> all = contract(result, xs);
        checked = true;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String t : taps) {
            if (wanted.contains(t)) {
                out.put(t, all.get(t));
            }
        }
        return new Output(wantDenoised ? all.get(DENOISED) : null, out);
    }

    /**
     * Checks a forward result against the contract: a dict of string keys and float tensors holding
     * {@code denoised} of the input's shape and every tap with the input's batch size.
     */
    private Map<String, Tensor> contract(IValue result, long[] xs) {
        String contract = "; the contract is forward(x, sigma) -> Dict[str, Tensor] with 'denoised' and every tap";
        if (!result.isGenericDict()) {
            throw new InvalidInputException(file + ": forward returned " + result.tagKind().getString()
                    + ", not a Dict[str, Tensor]" + contract);
        }
        GenericDict dict = result.toGenericDict();
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (GenericDictIterator it = dict.begin(); !it.equals(dict.end()); it.increment()) {
            IValue k = it.access().key();
            IValue v = it.access().value();
            if (!k.isString()) {
                throw new InvalidInputException(file + ": forward returned a dict with a " + k.tagKind().getString()
                        + " key" + contract);
            }
            String key = k.toStringRef().getString();
            if (!v.isTensor()) {
                throw new InvalidInputException(file + ": forward returned " + v.tagKind().getString() + " for '" + key
                        + "', not a Tensor" + contract);
            }
            all.put(key, v.toTensor());
        }
        for (String t : taps) {
            Tensor v = all.get(t);
            if (v == null) {
                throw new InvalidInputException(file + ": forward did not return tap '" + t + "' (it returned "
                        + all.keySet() + ")" + contract);
            }
            if (!v.is_floating_point() || v.dim() < 1 || v.size(0) != xs[0]) {
                throw new InvalidInputException(file + ": tap '" + t + "' is " + describe(v) + " for an input batch of "
                        + xs[0] + "; a tap must be a float tensor [N, ...] with N = " + xs[0]);
            }
        }
        Tensor d = all.get(DENOISED);
        if (d == null) {
            throw new InvalidInputException(file + ": forward did not return '" + DENOISED + "' (it returned "
                    + all.keySet() + ")" + contract);
        }
        if (!d.is_floating_point() || !Arrays.equals(Tensors.shape(d), xs)) {
            throw new InvalidInputException(file + ": '" + DENOISED + "' is " + describe(d) + " for an input of "
                    + Arrays.toString(xs) + "; it must be a float tensor of the input's shape");
        }
        return all;
    }

    private static String describe(Tensor t) {
        return t.scalar_type().toString().toLowerCase(java.util.Locale.ROOT) + " " + Arrays.toString(Tensors.shape(t));
    }

    private static JsonNode readMeta(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (entry.getName().endsWith("/extra/diffrep.json")) {
                    String text = new String(zip.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
                    return Json.COMPACT.readTree(text);
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read TorchScript archive: " + e.getMessage(), e);
        }
        throw new InvalidInputException(file + ": TorchScript archive lacks extra/diffrep.json (input_shape, taps); "
                + "export it with tools/export_torchscript.py");
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
