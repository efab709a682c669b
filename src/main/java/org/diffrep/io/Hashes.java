package org.diffrep.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests of files and bytes, and the {@code sha256:HEX} form that manifests record. */
public final class Hashes {

    /** The prefix of a recorded digest: {@code sha256:} followed by 64 lower-case hex digits. */
    public static final String SHA256_PREFIX = "sha256:";

    private Hashes() {
    }

    /** The SHA-256 digest of a file's content, read in 64 KiB blocks. */
    public static byte[] sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
        }
        return md.digest();
    }

    /** The SHA-256 digest of bytes. */
    public static byte[] sha256(byte[] bytes) {
        return sha256().digest(bytes);
    }

    /** Lower-case hex of bytes. */
    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** {@code sha256:HEX} of a file, as a manifest records it. */
    public static String sha256Id(Path file) throws IOException {
        return SHA256_PREFIX + hex(sha256(file));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
