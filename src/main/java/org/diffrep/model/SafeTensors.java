package org.diffrep.model;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import org.diffrep.InvalidInputException;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Json;
import org.diffrep.ops.Tensors;

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header mapping each tensor name to dtype, shape and data offsets (plus a
 * string-to-string {@code __metadata__} map), then the raw little-endian tensor bytes.
 * We write float32 only; we read F32, F16 and BF16 (converted to float32) and refuse anything else.
 */
public final class SafeTensors {

    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {
    }

    /** A file's metadata and tensors (CPU float32, in file order). */
    public record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {
    }

    /**
     * Writes tensors (converted to contiguous CPU float32) and metadata to {@code file}, through a
     * temporary file in the same directory that is renamed into place when complete.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("safetensors writing assumes a little-endian machine");
        }
        ObjectNode header = Json.COMPACT.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        List<Tensor> data = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue().detach().to(Tensors.options(ScalarType.Float), false, true, null).contiguous();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", "F32");
            var shape = entry.putArray("shape");
            for (long d : Tensors.shape(t)) {
                shape.add(d);
            }
            long n = t.nbytes();
            entry.putArray("data_offsets").add(offset).add(offset + n);
            offset += n;
            data.add(t);
        }
        byte[] json = Json.COMPACT.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // spaces keep the data 8-byte aligned, as the reference writer does
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');

        try (AtomicFiles.Pending pending = AtomicFiles.begin(file)) {
            OutputStream out = pending.stream();
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(head);
            byte[] buf = new byte[1 << 20];
            for (Tensor t : data) {
                BytePointer p = new BytePointer(t.data_ptr()).capacity(t.nbytes());
                for (long pos = 0; pos < t.nbytes(); pos += buf.length) {
                    int len = (int) Math.min(buf.length, t.nbytes() - pos);
                    p.position(pos).get(buf, 0, len);
                    out.write(buf, 0, len);
                }
            }
            pending.commit();
        }
    }

    /** Reads and validates a safetensors file; every problem is an {@link InvalidInputException} naming the file. */
    public static Contents read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "file is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw bad(file, "header length " + headerLen + " does not fit in a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = Json.COMPACT.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw bad(file, "header is not valid JSON: " + e.getOriginalMessage());
            }
            if (header == null || !header.isObject()) {
                throw bad(file, "header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    if (!f.getValue().isObject()) {
                        throw bad(file, "__metadata__ is not an object of strings");
                    }
                    f.getValue().fields().forEachRemaining(m -> {
                        if (!m.getValue().isTextual()) {
                            throw bad(file, "__metadata__." + m.getKey() + " is not a string");
                        }
                        metadata.put(m.getKey(), m.getValue().asText());
                    });
                } else {
                    entries.add(entry(file, f.getKey(), f.getValue(), dataSize));
                }
            }
            List<Entry> byOffset = new ArrayList<>(entries);
            byOffset.sort(Comparator.comparingLong(Entry::begin));
            long expect = 0;
            for (Entry e : byOffset) {
                if (e.begin() != expect) {
                    throw bad(file, "tensor '" + e.name() + "' starts at byte " + e.begin() + " of the data, expected "
                            + expect + " (tensors must be contiguous and non-overlapping)");
                }
                expect = e.end();
            }
            if (expect != dataSize) {
                throw bad(file, "tensors cover " + expect + " data bytes but the file holds " + dataSize);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry e : entries) {
                tensors.put(e.name(), load(ch, dataStart, e));
            }
            return new Contents(metadata, tensors);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read safetensors file: " + e.getMessage(), e);
        }
    }

    private record Entry(String name, String dtype, long[] shape, long begin, long end) {
    }

    private static Entry entry(Path file, String name, JsonNode node, long dataSize) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw bad(file, where + " is not an object");
        }
        JsonNode dtype = node.get("dtype");
        if (dtype == null || !dtype.isTextual()) {
            throw bad(file, where + " has no dtype");
        }
        int elem = switch (dtype.asText()) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw bad(file, where + " has dtype " + dtype.asText() + ", expected F32, F16 or BF16");
        };
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw bad(file, where + " has no shape array");
        }
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw bad(file, where + " has a bad shape " + shapeNode);
            }
            shape[i] = d.asLong();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw bad(file, where + " has shape " + shapeNode + ", more elements than a file can hold");
            }
        }
        if (numel > Long.MAX_VALUE / elem) {
            throw bad(file, where + " has shape " + shapeNode + ", more bytes than a file can hold");
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                || !off.get(1).isIntegralNumber()) {
            throw bad(file, where + " needs data_offsets [begin, end]");
        }
        long b = off.get(0).asLong();
        long e = off.get(1).asLong();
        if (b < 0 || e < b || e > dataSize) {
            throw bad(file, where + " has data_offsets [" + b + ", " + e + "] outside the " + dataSize + " data bytes");
        }
        if (e - b != numel * elem) {
            throw bad(file, where + " has " + (e - b) + " bytes but shape " + Arrays.toString(shape) + " of "
                    + dtype.asText() + " needs " + numel * elem);
        }
        return new Entry(name, dtype.asText(), shape, b, e);
    }

    private static Tensor load(FileChannel ch, long dataStart, Entry e) throws IOException {
        ScalarType type = switch (e.dtype()) {
            case "F16" -> ScalarType.Half;
            case "BF16" -> ScalarType.BFloat16;
            default -> ScalarType.Float;
        };
        Tensor t = torch.empty(e.shape(), Tensors.options(type), null);
        long n = e.end() - e.begin();
        if (n > 0) {
            ByteBuffer buf = new BytePointer(t.data_ptr()).capacity(n).asByteBuffer();
            readFully(ch, buf, dataStart + e.begin());
        }
        return type == ScalarType.Float ? t : t.to(Tensors.options(ScalarType.Float), false, false, null);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += r;
        }
    }

    private static InvalidInputException bad(Path file, String what) {
        return new InvalidInputException(file + ": " + what);
    }
}
