package org.diffrep.sae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format for float32 tensors: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} and {@code __metadata__}, string to string), then
 * the raw little-endian data. Python's {@code safetensors.torch.load_file} reads what this writes.
 * Kept in the sae package because the model package's reader was not merged when the SAE was
 * written; it reads only F32.
 */
public final class SafetensorsFile {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    /** The tensors (CPU float32, in file order) and the metadata of a file. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    private SafetensorsFile() {
    }

    /** Writes tensors (any device, float32) and metadata to a temp file and renames it into place. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        Map<String, float[]> data = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            float[] values = Tensors.toFloats(e.getValue());
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long s : Tensors.shape(e.getValue())) {
                shape.add(s);
            }
            t.putArray("data_offsets").add(offset).add(offset + 4L * values.length);
            offset += 4L * values.length;
            data.put(e.getKey(), values);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int pad = (8 - json.length % 8) % 8; // the format pads the header with spaces to 8-byte alignment
        byte[] headerBytes = new byte[json.length + pad];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        java.util.Arrays.fill(headerBytes, json.length, headerBytes.length, (byte) ' ');

        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length);
            writeFully(ch, len.flip());
            writeFully(ch, ByteBuffer.wrap(headerBytes));
            for (float[] values : data.values()) {
                ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(values);
                writeFully(ch, b);
            }
            ch.force(false);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a whole file; every problem is an {@link InvalidInputException} naming the file and field. */
    public static Contents read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": no such file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new InvalidInputException(file + ": not a safetensors file (" + size + " bytes)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.flip().getLong();
            if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
                throw new InvalidInputException(file + ": not a safetensors file (header length " + n + ")");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new InvalidInputException(file + ": the safetensors header is not JSON: " + e.getMessage());
            }
            long dataStart = 8 + n, dataBytes = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                tensors.put(e.getKey(), readTensor(ch, file, e.getKey(), e.getValue(), dataStart, dataBytes));
            }
            return new Contents(tensors, metadata);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e);
        }
    }

    private static Tensor readTensor(FileChannel ch, Path file, String name, JsonNode t, long dataStart, long dataBytes)
            throws IOException {
        String dtype = t.path("dtype").asText();
        if (!dtype.equals("F32")) {
            throw new InvalidInputException(file + ": tensor " + name + " has dtype " + dtype + ", expected F32");
        }
        JsonNode shapeNode = t.path("shape"), off = t.path("data_offsets");
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong();
            count *= shape[i];
        }
        long begin = off.path(0).asLong(-1), end = off.path(1).asLong(-1);
        if (begin < 0 || end != begin + 4 * count || end > dataBytes) {
            throw new InvalidInputException(file + ": tensor " + name + " has data_offsets " + off
                    + " that do not fit shape " + java.util.Arrays.toString(shape) + " in " + dataBytes + " data bytes");
        }
        ByteBuffer b = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, dataStart + begin);
        float[] values = new float[(int) count];
        b.flip().asFloatBuffer().get(values);
        return shape.length == 0 ? Tensors.fromFloats(values) : Tensors.fromFloats(values, shape);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += r;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
