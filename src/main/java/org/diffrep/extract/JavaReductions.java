package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Hashes;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/** The {@link FeatureReduction}s on the classpath, found by {@link ServiceLoader}, with the hash of their code. */
final class JavaReductions {

    private JavaReductions() {
    }

    /** name -> (reduction, record), in the order the service files list them. */
    static Map<String, Reductions.Selected> load() {
        Map<String, Reductions.Selected> out = new LinkedHashMap<>();
        ServiceLoader<FeatureReduction> loader = ServiceLoader.load(FeatureReduction.class,
                Thread.currentThread().getContextClassLoader());
        try {
            for (FeatureReduction r : loader) {
                String name = r.name();
                Reductions.checkName(name, r.getClass().getName());
                Reductions.Selected prev = out.get(name);
                if (prev != null) {
                    throw InvalidInputException.field("reduce", ": two Java reductions are named '" + name + "': "
                            + prev.record().source() + " and " + r.getClass().getName());
                }
                out.put(name, new Reductions.Selected(r, record(r), null));
            }
        } catch (ServiceConfigurationError e) {
            throw InvalidInputException.field("reduce", ": a Java reduction listed in META-INF/services/"
                    + FeatureReduction.class.getName() + " cannot be loaded: " + e.getMessage(), e);
        }
        return out;
    }

    /** The record of a Java reduction: its class, and the sha256 of its jar (or of its class file). */
    static ReductionRecord record(FeatureReduction r) {
        Class<?> c = r.getClass();
        try {
            CodeSource cs = c.getProtectionDomain().getCodeSource();
            Path where = cs == null || cs.getLocation() == null ? null : Path.of(cs.getLocation().toURI());
            if (where != null && Files.isRegularFile(where)) {
                return new ReductionRecord(r.name(), "java", c.getName() + " in " + where.getFileName(),
                        Hashes.sha256Id(where));
            }
            try (InputStream in = c.getResourceAsStream("/" + c.getName().replace('.', '/') + ".class")) {
                if (in == null) {
                    throw new IOException("its class file is not readable");
                }
                return new ReductionRecord(r.name(), "java", c.getName(),
                        Hashes.SHA256_PREFIX + Hashes.hex(Hashes.sha256(in.readAllBytes())));
            }
        } catch (IOException | URISyntaxException | IllegalArgumentException | SecurityException e) {
            throw InvalidInputException.field("reduce", ": cannot hash the code of the Java reduction " + c.getName()
                    + ": " + e.getMessage());
        }
    }
}
