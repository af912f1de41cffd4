"""nbgrader settings for the rfmaps assignments (run nbgrader from this folder)."""

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "rfmaps"
c.CourseDirectory.root = "."
# Students and assignments appear in the gradebook as their work is generated and collected.
c.GenerateAssignment.create_assignment = True
c.Autograde.create_student = True
# Student versions must not start from the instructor's outputs.
c.ClearSolutions.enforce_metadata = True
