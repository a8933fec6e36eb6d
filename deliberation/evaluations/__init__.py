"""Party branch evaluations of property firms and owner committees: organisations, rubrics,
satisfaction surveys, evaluations, evidence photos and the representatives' replies."""
