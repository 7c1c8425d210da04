import { useNavigate } from '@solidjs/router'
import { AnalysisPanel } from '../components/analysis-panel.tsx'
import { JobForm } from '../components/job-form.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { signinRequired } from '../components/signin-required.tsx'
import { createJobFormStore } from '../stores/job-form.ts'

export default signinRequired('the submit form', SubmitPage)

function SubmitPage () {
  const navigate = useNavigate()
  const form = createJobFormStore({ onSubmitted: (job) => { navigate(`/jobs/${job.id}`) } })
  return (
    <>
      <PageTitle title='Submit a job' />
      <h1>Submit a job</h1>
      <div class='submit'>
        <JobForm store={form} />
        <AnalysisPanel store={form} />
      </div>
    </>
  )
}
