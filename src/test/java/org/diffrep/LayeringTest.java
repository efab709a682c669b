package org.diffrep;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The layering of DESIGN.md, stated: data flows one way (dataset -> noise -> denoiser -> store ->
 * analyses -> studies -> command line), and each package may use only the packages listed for it
 * here (and the top-level {@code org.diffrep} classes). A new package must be added to the table.
 */
class LayeringTest {

    /** Package -> the diffrep packages it may use, lowest layer first. */
    static final Map<String, Set<String>> ALLOWED = new LinkedHashMap<>();

    static {
        // base: no diffrep dependencies but each other's
        ALLOWED.put("io", Set.of());
        ALLOWED.put("ops", Set.of("io"));
        ALLOWED.put("noise", Set.of("io", "ops"));
        ALLOWED.put("report", Set.of("io", "ops"));
        // data and networks
        ALLOWED.put("data", Set.of("io", "ops", "noise"));
        ALLOWED.put("model", Set.of("io", "ops", "noise"));
        // the engine: training and extraction into stores
        Set<String> engine = Set.of("io", "ops", "noise", "report", "data", "model");
        ALLOWED.put("train", engine);
        ALLOWED.put("extract", engine);
        // analyses of stores and models; reconstruct reuses analysis's nearest neighbours
        Set<String> analyses = Set.of("io", "ops", "noise", "report", "data", "model", "extract");
        ALLOWED.put("probe", analyses);
        ALLOWED.put("theory", analyses);
        ALLOWED.put("analysis", analyses);
        ALLOWED.put("sae", analyses);
        ALLOWED.put("reconstruct", union(analyses, Set.of("analysis")));
        // studies combine analyses; the command line drives everything
        Set<String> studies = union(analyses, Set.of("train", "probe", "theory", "analysis", "sae", "reconstruct"));
        ALLOWED.put("study", studies);
        // batch plans run studies over many models and datasets
        ALLOWED.put("plan", union(studies, Set.of("study")));
        ALLOWED.put("cli", union(studies, Set.of("study", "plan")));
        // distribution beside the command line: drives the extraction engine on Spark, with extract's options
        // (cli's ExtractOptions, StoreOptions and error handling); no package lists spark, so nothing depends on it
        ALLOWED.put("spark", Set.of("io", "ops", "data", "model", "extract", "cli"));
    }

    static JavaClasses library;

    @BeforeAll
    static void importLibrary() {
        library = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.diffrep");
    }

    @Test
    void eachPackageUsesOnlyTheLayersBelowIt() {
        for (Map.Entry<String, Set<String>> e : ALLOWED.entrySet()) {
            List<String> allowed = new ArrayList<>(List.of("org.diffrep", "org.diffrep." + e.getKey() + ".."));
            e.getValue().forEach(p -> allowed.add("org.diffrep." + p + ".."));
            ArchRule rule = classes().that().resideInAPackage("org.diffrep." + e.getKey() + "..")
                    .should().onlyDependOnClassesThat(resideOutsideOfPackage("org.diffrep..")
                            .or(resideInAnyPackage(allowed.toArray(String[]::new))))
                    .allowEmptyShould(true)
                    .because("DESIGN.md: data flows one way; " + e.getKey() + " may use " + e.getValue());
            rule.check(library);
        }
    }

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("org.diffrep.(*)..").should().beFreeOfCycles().check(library);
    }

    @Test
    void everyPackageIsInTheTable() {
        Set<String> unknown = new TreeSet<>();
        library.forEach(c -> {
            String pkg = c.getPackageName();
            if (!pkg.equals("org.diffrep")) {
                String top = pkg.substring("org.diffrep.".length()).split("\\.")[0];
                if (!ALLOWED.containsKey(top)) {
                    unknown.add(top);
                }
            }
        });
        assertEquals(Set.of(), unknown, "packages missing from LayeringTest.ALLOWED");
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }
}
