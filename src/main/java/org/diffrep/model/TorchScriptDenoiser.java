package org.diffrep.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.GenericDictIterator;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.InvalidInputException;

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

    public TorchScriptDenoiser(Path file) {
        this.file = file;
        JsonNode meta = readMeta(file);
        JsonNode shape = meta.get("input_shape");
        JsonNode tapList = meta.get("taps");
        if (shape == null || !shape.isArray() || shape.isEmpty() || tapList == null || !tapList.isArray()) {
            throw new InvalidInputException(file + ": extra/diffrep.json needs input_shape (array) and taps (array)");
        }
        inputShape = new long[shape.size()];
        for (int i = 0; i < inputShape.length; i++) {
            inputShape[i] = shape.get(i).asLong();
        }
        List<String> t = new ArrayList<>();
        tapList.forEach(n -> t.add(n.asText()));
        taps = List.copyOf(t);
        try {
            module = torch.load(file.toString());
        } catch (RuntimeException e) {
            throw new InvalidInputException(file + ": not a loadable TorchScript archive: " + firstLine(e.getMessage()), e);
        }
        module.eval();
    }

    @Override
    public List<String> taps() {
        return taps;
    }

    @Override
    public long[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public Output forward(Tensor x, Tensor sigma, Set<String> wanted, boolean wantDenoised) {
        Denoiser.deepestTap(taps, wanted);
        IValue result = module.forward(new IValueVector(new IValue(x), new IValue(sigma)));
        if (!result.isGenericDict()) {
            throw new InvalidInputException(file + ": forward returned no Dict[str, Tensor]");
        }
        GenericDict dict = result.toGenericDict();
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (GenericDictIterator it = dict.begin(); !it.equals(dict.end()); it.increment()) {
            all.put(it.access().key().toStringRef().getString(), it.access().value().toTensor());
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String t : taps) {
            if (wanted.contains(t)) {
                Tensor v = all.get(t);
                if (v == null) {
                    throw new InvalidInputException(file + ": forward did not return tap '" + t + "'");
                }
                out.put(t, v);
            }
        }
        Tensor d = null;
        if (wantDenoised) {
            d = all.get("denoised");
            if (d == null) {
                throw new InvalidInputException(file + ": forward did not return 'denoised'");
            }
        }
        return new Output(d, out);
    }

    private static JsonNode readMeta(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (entry.getName().endsWith("/extra/diffrep.json")) {
                    String text = new String(zip.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
                    return ModelFiles.JSON.readTree(text);
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
